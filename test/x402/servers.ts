/**
 * An x402 seller on this machine, built from the protocol maintainers' packages only: a facilitator
 * (@x402/core x402Facilitator + @x402/svm's exact scheme, with smart-wallet verification on or off)
 * answering /supported, /verify and /settle over HTTP against the localnet, and a resource server
 * (hono with @x402/hono's paymentMiddleware, @x402/svm's exact server scheme, @x402/core's
 * HTTPFacilitatorClient) whose routes each ask a price in the test token. Nothing here is a stand-in:
 * verification simulates on the localnet and settlement lands there.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createKeyPairSignerFromBytes, createSolanaRpc } from '@solana/kit';
import { Keypair } from '@solana/web3.js';
import { x402Facilitator } from '@x402/core/facilitator';
import { HTTPFacilitatorClient, x402ResourceServer } from '@x402/core/server';
import type {
  Network,
  PaymentPayload,
  PaymentRequirements,
  SettleResponse,
  VerifyResponse,
} from '@x402/core/types';
import { paymentMiddleware } from '@x402/hono';
import { toFacilitatorSvmSigner } from '@x402/svm';
import { ExactSvmScheme as ExactSvmFacilitator } from '@x402/svm/exact/facilitator';
import { ExactSvmScheme as ExactSvmServer } from '@x402/svm/exact/server';
import { Hono } from 'hono';

export interface PaidRoute {
  /** e.g. "/report" */
  readonly path: string;
  readonly payTo: string;
  readonly amount: bigint;
  /** Extra requirement fields the seller adds (e.g. features). */
  readonly extra?: Record<string, unknown>;
}

export interface X402Stack {
  /** The resource server's base URL. */
  readonly url: string;
  readonly origin: string;
  readonly facilitatorUrl: string;
  /** The facilitator's fee payer. */
  readonly feePayer: Keypair;
  readonly verified: VerifyResponse[];
  readonly settled: SettleResponse[];
  /** What each route handler served (only after a verified payment, for paid routes). */
  readonly served: string[];
  close(): Promise<void>;
}

export interface StackOptions {
  readonly rpcUrl: string;
  readonly network: string;
  readonly mint: string;
  readonly smartWallet: boolean;
  readonly routes: readonly PaidRoute[];
  /** Funds the facilitator's fee payer on the localnet. */
  readonly fund: (address: string) => Promise<void>;
}

type Closable = { close(callback?: (error?: Error) => void): unknown };

const listen = async (app: Hono): Promise<{ url: string; server: Closable }> => {
  let server: ReturnType<typeof serve> | undefined;
  const { port } = await new Promise<AddressInfo>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info));
  });
  return { url: `http://127.0.0.1:${port}`, server: server as unknown as Closable };
};

const close = (server: Closable) =>
  new Promise<void>((resolve) => {
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close(() => resolve());
  });

export async function startX402Stack(options: StackOptions): Promise<X402Stack> {
  const network = options.network as Network;
  const feePayer = Keypair.generate();
  await options.fund(feePayer.publicKey.toBase58());
  const signer = await createKeyPairSignerFromBytes(feePayer.secretKey);
  // One RPC for the localnet's network: the package only knows the public clusters by name.
  const svmSigner = toFacilitatorSvmSigner(signer, { [network]: createSolanaRpc(options.rpcUrl) } as never);
  const facilitator = new x402Facilitator().register(
    network,
    new ExactSvmFacilitator(svmSigner, undefined, { enableSmartWalletVerification: options.smartWallet }),
  );
  const verified: VerifyResponse[] = [];
  const settled: SettleResponse[] = [];
  const facilitatorApp = new Hono();
  facilitatorApp.get('/supported', (c) => c.json(facilitator.getSupported()));
  facilitatorApp.post('/verify', async (c) => {
    const { paymentPayload, paymentRequirements } = await c.req.json<{
      paymentPayload: PaymentPayload;
      paymentRequirements: PaymentRequirements;
    }>();
    const result = await facilitator.verify(paymentPayload, paymentRequirements);
    verified.push(result);
    return c.json(result);
  });
  facilitatorApp.post('/settle', async (c) => {
    const { paymentPayload, paymentRequirements } = await c.req.json<{
      paymentPayload: PaymentPayload;
      paymentRequirements: PaymentRequirements;
    }>();
    const result = await facilitator.settle(paymentPayload, paymentRequirements);
    settled.push(result);
    return c.json(result);
  });
  const facilitatorServer = await listen(facilitatorApp);

  const resourceServer = new x402ResourceServer(
    new HTTPFacilitatorClient({ url: facilitatorServer.url }),
  ).register(network, new ExactSvmServer());
  const served: string[] = [];
  const resourceApp = new Hono();
  resourceApp.use(
    paymentMiddleware(
      Object.fromEntries(
        options.routes.map((route) => [
          `GET ${route.path}`,
          {
            accepts: {
              scheme: 'exact',
              network,
              payTo: route.payTo,
              price: { asset: options.mint, amount: route.amount.toString() },
              ...(route.extra && { extra: route.extra }),
            },
            description: `the ${route.path} resource`,
            mimeType: 'application/json',
          },
        ]),
      ),
      resourceServer,
    ),
  );
  for (const route of options.routes) {
    resourceApp.get(route.path, (c) => {
      served.push(route.path);
      return c.json({ resource: route.path, content: `the contents of ${route.path}` });
    });
  }
  resourceApp.get('/free', (c) => c.text('free for all'));
  resourceApp.get('/moved', (c) => c.redirect('/free', 302));
  const resource = await listen(resourceApp);
  return {
    url: resource.url,
    origin: resource.url,
    facilitatorUrl: facilitatorServer.url,
    feePayer,
    verified,
    settled,
    served,
    async close() {
      await close(resource.server);
      await close(facilitatorServer.server);
    },
  };
}
