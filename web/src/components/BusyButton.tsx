import type { ButtonHTMLAttributes } from 'preact';

/**
 * A button that stays focusable while its action runs. `disabled` would do the same visually,
 * but a disabled button drops the keyboard focus to `<body>`: a keyboard or screen-reader user
 * lost their place after every sign-in attempt, save or download. While `busy` it is
 * `aria-disabled` and its clicks (a form's implicit submission included) are cancelled.
 */
export function BusyButton({ busy, onClick, children, ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { busy: boolean }) {
  return (
    <button
      {...rest}
      aria-disabled={busy || undefined}
      onClick={(e) => {
        if (busy) return e.preventDefault();
        onClick?.(e);
      }}
    >
      {children}
    </button>
  );
}
