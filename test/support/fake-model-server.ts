// A local HTTP server that a real client library talks to, with a scripted behaviour per test and
// a record of every request. fake-gemini.ts and fake-ollama.ts give it each provider's wire format.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  | { kind: 'answer'; text: string }
  | { kind: 'status'; status: number; body: unknown }
  | { kind: 'hang' }
  | { kind: 'raw'; status: number; contentType: string; body: string };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface FakeModelServer {
  url: string;
  requests: RecordedRequest[];
  /** What the next requests get, until changed. */
  behave(behaviour: Behaviour): void;
  close(): Promise<void>;
}

export async function startFakeModelServer(options: {
  /** Which requests are the model call; anything else is 404. */
  matches: (method: string, path: string) => boolean;
  /** The provider's success body around the answer text. */
  wrapAnswer: (text: string, request: RecordedRequest) => unknown;
}): Promise<FakeModelServer> {
  let behaviour: Behaviour = { kind: 'status', status: 503, body: { error: 'no behaviour set' } };
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // keep the raw text
      }
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      requests.push(request);
      if (!options.matches(request.method, request.path.split('?')[0] ?? '')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `no route ${request.method} ${request.path}` }));
        return;
      }
      switch (behaviour.kind) {
        case 'hang':
          return; // never answers; close() cuts the connection
        case 'answer':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(options.wrapAnswer(behaviour.text, request)));
          return;
        case 'status':
          res.writeHead(behaviour.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(behaviour.body));
          return;
        case 'raw':
          res.writeHead(behaviour.status, { 'content-type': behaviour.contentType });
          res.end(behaviour.body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    behave: (b) => {
      behaviour = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
