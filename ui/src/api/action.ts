import { useMutation, type DefaultError, type UseMutationOptions, type UseMutationResult } from '@tanstack/preact-query';
import { useRef } from 'preact/hooks';

/**
 * `useMutation` whose functions are always the ones of the latest render.
 *
 * TanStack Query hands new options to its observer in an effect, which Preact runs
 * after the next paint; a form submitted right after a change (a ticked box, then
 * Enter) would otherwise send the values of the render before it. Reading the
 * options through a ref makes `mutate()` see what the person sees.
 */
export function useAction<TData = unknown, TVariables = void, TContext = unknown>(
  options: UseMutationOptions<TData, DefaultError, TVariables, TContext>,
): UseMutationResult<TData, DefaultError, TVariables, TContext> {
  const latest = useRef(options);
  latest.current = options;
  return useMutation<TData, DefaultError, TVariables, TContext>({
    ...options,
    mutationFn: (variables, context) => latest.current.mutationFn!(variables, context),
    onSuccess: (...args) => latest.current.onSuccess?.(...args),
    onError: (...args) => latest.current.onError?.(...args),
    onSettled: (...args) => latest.current.onSettled?.(...args),
  });
}
