/**
 * The enclave on vsock, through socat on both ends.
 *
 * Node has no AF_VSOCK sockets, so one of two things must carry the bytes: a native addon (a second
 * native dependency in the measured image, to build and keep up), or socat, which AWS's own Nitro
 * samples use, which is one apt/dnf package on the parent and in the image, and which needs no code
 * of ours. We use socat: the enclave keeps listening on a Unix socket exactly as in process mode and
 * the daemon keeps speaking the same length-prefixed protocol over a Unix socket; socat only moves
 * bytes. It sees ciphertext of nothing (the protocol carries no secret: sealed blobs, signatures and
 * owner-signed policies), and a host that can run socat can already talk to the enclave, so the
 * bridge grants nothing new.
 *
 *   inside the enclave:  socat VSOCK-LISTEN:<port>,fork,reuseaddr UNIX-CONNECT:<state-dir>/enclave.sock
 *   on the parent:       socat UNIX-LISTEN:<data>/enclave/enclave.sock,fork,unlink-early,umask=0177 \
 *                              VSOCK-CONNECT:<enclave cid>:<port>
 *
 * Each daemon connection becomes one vsock connection (fork), so a closed connection on one side is a
 * closed connection on the other: the supervisor learns that the enclave went away when its
 * connection closes.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export const DEFAULT_VSOCK_PORT = 5000;

export const vsockListenAddress = (port: number): string => `VSOCK-LISTEN:${port},fork,reuseaddr`;
export const vsockConnectAddress = (cid: number, port: number): string => `VSOCK-CONNECT:${cid}:${port}`;
/** A Unix socket only this user can open (umask 0177: created 0600). */
export const unixListenAddress = (path: string): string => `UNIX-LISTEN:${path},fork,unlink-early,umask=0177`;
export const unixConnectAddress = (path: string): string => `UNIX-CONNECT:${path}`;

/** socat moving bytes between `listen` and `connect`, one child per connection. */
export const socatCommand = (listen: string, connect: string): string[] => ['socat', listen, connect];

/** Inside the enclave: vsock `port` to the enclave's Unix socket. */
export const enclaveBridgeCommand = (port: number, socketPath: string): string[] =>
  socatCommand(vsockListenAddress(port), unixConnectAddress(socketPath));

/** On the parent: the daemon's Unix socket to the enclave's vsock port. */
export const parentBridgeCommand = (socketPath: string, cid: number, port: number): string[] =>
  socatCommand(unixListenAddress(socketPath), vsockConnectAddress(cid, port));

/** Starts a bridge; its stderr lines go to `log`. The caller stops it (SIGTERM) when done. */
export const startBridge = (command: readonly string[], log?: (line: string) => void): ChildProcess => {
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    for (const line of text.split('\n')) if (line.trim()) log?.(`bridge: ${line}`);
  });
  child.on('error', (error) => log?.(`bridge: ${error.message}`));
  return child;
};
