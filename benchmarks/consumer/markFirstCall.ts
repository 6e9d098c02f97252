/** A client middleware that calls `onFirst` when the first command of a kind is sent (e.g. to mark the start of a drain). */

type Handler = (args: { input: unknown }) => Promise<{ output: unknown }>;
interface MiddlewareStackLike {
  add(
    middleware: (next: Handler, context: { commandName?: string }) => Handler,
    options: { step: 'initialize'; name: string; override: boolean },
  ): void;
}

/** Calls `onFirst` once, synchronously, when `client` first sends `command` (e.g. `GetShardIterator`). */
export function onFirstCommand(
  client: { readonly middlewareStack: object },
  command: string,
  onFirst: () => void,
): void {
  let seen = false;
  (client.middlewareStack as unknown as MiddlewareStackLike).add(
    (next, context) => (args) => {
      if (!seen && context.commandName === `${command}Command`) {
        seen = true;
        onFirst();
      }
      return next(args);
    },
    { step: 'initialize', name: `benchFirst${command}`, override: true },
  );
}
