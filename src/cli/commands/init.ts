import { loadConfig } from '../../daemon/config.ts';
import { initialise } from '../initialise.ts';

export async function run(_args: string[]): Promise<number> {
  const config = loadConfig();
  const { store, newMasterToken } = await initialise(config);
  try {
    console.log(`data directory  ${config.dataDir}`);
    console.log(`config          ${config.configFile}`);
    console.log(`database        ${store.location}`);
    if (newMasterToken) {
      console.log(`operator token  ${newMasterToken}`);
      console.log('                (shown once; store it now — only its hash is kept)');
    } else if (config.masterToken) {
      console.log('operator token  taken from WAIAAS_MASTER_TOKEN');
    } else {
      console.log('operator token  already issued (it was shown when it was created)');
    }
  } finally {
    await store.close();
  }
  return 0;
}
