/**
 * Wraps a uvu before/after hook so that its error is printed. uvu 0.5 swallows errors thrown by hooks
 * (the suite just reports 0 passed), which would hide why, say, a server failed to start.
 */
export function loudHook(hook: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await hook();
    } catch (e) {
      console.error('hook failed:', e);
      throw e;
    }
  };
}
