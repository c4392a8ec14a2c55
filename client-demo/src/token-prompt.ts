// Asks for the server's token in an accessible dialog (the server was started with --token).

export function askForToken(): Promise<string | null> {
  const dialog = document.querySelector<HTMLDialogElement>('#token-dialog')!;
  const input = dialog.querySelector<HTMLInputElement>('input')!;
  input.value = '';
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
