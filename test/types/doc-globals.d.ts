// What the documentation's snippets take from the reader's own gateway:
// the names they use without defining. test/js/doc-snippets.test.js
// compiles every ```js block of README.md and docs/migration-guide.md
// against lib/index.d.ts with these in scope.
import type { IncomingMessage, Server } from 'node:http';
import type { Dispatcher, Router, DeliveryEvent } from 'ficus';

declare global {
  const server: Server;
  const dispatch: Dispatcher;
  const router: Router;
  const event: DeliveryEvent;
  const id: number | string;
  function yourAuth(req: IncomingMessage): Promise<{ id: string; topics: string[] } | null>;
  function yourPermissions(userId: string): Promise<{ role: string; orders: string[]; drivers: string[] }>;
  function yourHttpP99Ms(): Promise<number>;
  function onConnection(ws: unknown, req: IncomingMessage): void;
  function yourJwtVerify(token: string): Promise<{ sub: string; topics: string[]; exp: number } | null>;
  function sessionMiddleware(req: IncomingMessage, res: object, next: (err?: unknown) => void): void;
  function sessionUserOf(req: IncomingMessage): { id: string; orders: string[] } | undefined;
}
