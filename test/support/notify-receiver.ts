// A local HTTP receiver for notifications (Slack's incoming webhook or a generic one) on 127.0.0.1:
// it keeps every POST with the time it arrived, and answers what the test says.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** Date.now() when the whole body had arrived. */
  receivedAt: number;
}

export interface NotifyReceiver {
  /** The base URL, e.g. http://127.0.0.1:41234; post to any path under it. */
  url: string;
  posts: ReceivedPost[];
  /** What to answer next; by default 200 `ok`, as Slack does. `hang`: never answer. */
  answer: (post: ReceivedPost) => { status: number; body?: string; hang?: boolean };
  close(): Promise<void>;
}

export async function startNotifyReceiver(): Promise<NotifyReceiver> {
  const receiver: NotifyReceiver = {
    url: '',
    posts: [],
    answer: () => ({ status: 200, body: 'ok' }),
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as text: the test's schema then says what is wrong with it.
      }
      const post = { path: req.url ?? '/', headers: req.headers, body, receivedAt: Date.now() };
      receiver.posts.push(post);
      const { status, body: reply, hang } = receiver.answer(post);
      if (hang) return;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(reply ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}
