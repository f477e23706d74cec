/**
 * Builds a handler on its first invocation and keeps it for the container's life: clients and
 * pools are made once per container, and importing a handler module has no side effects.
 */
export function lazyHandler<Event, Context, Result>(
  build: () => Promise<(event: Event, context: Context) => Promise<Result>>,
): (event: Event, context: Context) => Promise<Result> {
  let built: Promise<(event: Event, context: Context) => Promise<Result>> | undefined;
  return async (event, context) => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return (await built)(event, context);
  };
}
