/**
 * Confirmations and the owner's second factor. Each owner-key act asks for the factor (keystore
 * passphrase or MFA code) in a modal dialog; the value goes to that one API call and is dropped: it is
 * never kept in state after the dialog closes, never stored, never logged.
 */
import { type ComponentChildren, createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';

export interface AskOptions {
  /** The dialog's heading, naming what is about to happen (and to which wallet). */
  readonly title: string;
  readonly body?: ComponentChildren;
  /** The confirm button's label, e.g. "Freeze Treasury". */
  readonly confirm: string;
  /** required: an owner-key act; optional: the act works without it (reject); none: a plain confirmation. */
  readonly secondFactor: 'required' | 'optional' | 'none';
  readonly danger?: boolean;
}

/** What the owner answered: null when they cancelled. `unlock` is undefined when none was given. */
export type Answer = { unlock: string | undefined } | null;

type Ask = (options: AskOptions) => Promise<Answer>;

const DialogContext = createContext<Ask>(async () => null);

export const useAsk = (): Ask => useContext(DialogContext);

export function DialogProvider(props: { children: ComponentChildren }) {
  const [pending, setPending] = useState<{ options: AskOptions; resolve: (answer: Answer) => void } | null>(
    null,
  );
  const dialog = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [missing, setMissing] = useState(false);

  const ask = useCallback<Ask>(
    (options) =>
      new Promise<Answer>((resolve) => {
        setMissing(false);
        setPending({ options, resolve });
      }),
    [],
  );

  useEffect(() => {
    const element = dialog.current;
    if (pending && element && !element.open) element.showModal();
  }, [pending]);

  const finish = (answer: Answer) => {
    if (input.current) input.current.value = '';
    dialog.current?.close();
    pending?.resolve(answer);
    setPending(null);
  };

  const onSubmit = (event: Event) => {
    event.preventDefault();
    const value = input.current?.value ?? '';
    if (pending?.options.secondFactor === 'required' && value === '') {
      setMissing(true);
      input.current?.focus();
      return;
    }
    finish({ unlock: value === '' ? undefined : value });
  };

  const options = pending?.options;
  return (
    <DialogContext.Provider value={ask}>
      {props.children}
      <dialog
        ref={dialog}
        class="dialog"
        aria-labelledby="dialog-title"
        onCancel={(event) => {
          event.preventDefault();
          finish(null);
        }}
      >
        {options && (
          <form method="dialog" onSubmit={onSubmit}>
            <h2 id="dialog-title">{options.title}</h2>
            {options.body && <div class="dialog-body">{options.body}</div>}
            {options.secondFactor !== 'none' && (
              <div class="field">
                <label for="second-factor">
                  Second factor (keystore passphrase or MFA code)
                  {options.secondFactor === 'optional' ? ' — optional' : ''}
                </label>
                <input
                  id="second-factor"
                  ref={input}
                  type="password"
                  autocomplete="off"
                  autoFocus
                  aria-invalid={missing}
                  aria-describedby={missing ? 'second-factor-error' : 'second-factor-hint'}
                />
                {missing ? (
                  <p id="second-factor-error" class="field-error" role="alert">
                    This act needs the second factor of your Owner Key.
                  </p>
                ) : (
                  <p id="second-factor-hint" class="hint">
                    Used for this act only and never stored.
                  </p>
                )}
              </div>
            )}
            <div class="actions">
              <button type="button" onClick={() => finish(null)}>
                Cancel
              </button>
              <button type="submit" class={options.danger ? 'danger' : 'primary'}>
                {options.confirm}
              </button>
            </div>
          </form>
        )}
      </dialog>
    </DialogContext.Provider>
  );
}
