/**
 * A TCP proxy on 127.0.0.1 that counts the bytes a client sends and, when armed, kills both
 * sockets at a given byte: a connection dropped mid-request, exactly where the test says.
 */
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export async function startFaultProxy(targetPort: number) {
  let upstreamBytes = 0;
  let killAt: number | null = null;
  let kills = 0;
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    let dead = false;
    client.on('data', (chunk: Buffer) => {
      if (dead) return; // nothing after the cut may reach the server
      if (killAt !== null && upstreamBytes + chunk.length >= killAt) {
        const keep = killAt - upstreamBytes;
        upstreamBytes += keep;
        killAt = null;
        dead = true;
        kills++;
        client.destroy();
        upstream.write(chunk.subarray(0, keep), kill);
        return;
      }
      upstreamBytes += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        (s === client ? upstream : client).destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    /** Bytes clients sent through the proxy so far (headers included). */
    get upstreamBytes() {
      return upstreamBytes;
    },
    get kills() {
      return kills;
    },
    /** Kill the connection carrying upstream byte number `upstreamBytes + n`. */
    killAfter(n: number) {
      killAt = upstreamBytes + n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
