// Asks for the server's token in an accessible dialog (the server was started with --token).

/** Opens the token dialog; `problem` says why it asks again (a token that was refused). Resolves null on cancel. */
export function askForToken(problem?: string): Promise<string | null> {
  const dialog = document.querySelector<HTMLDialogElement>('#token-dialog')!;
  const input = dialog.querySelector<HTMLInputElement>('input')!;
  const note = dialog.querySelector<HTMLElement>('.token-problem');
  if (note !== null) {
    note.textContent = problem ?? '';
    note.hidden = problem === undefined;
  }
  input.value = '';
  dialog.returnValue = '';
  dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => resolve(dialog.returnValue === 'ok' && input.value.trim() !== '' ? input.value.trim() : null),
      { once: true },
    );
  });
}
