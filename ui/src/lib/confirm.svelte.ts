// One modal confirmation at a time: `if (await confirmAction({...})) { ... }`.

export interface ConfirmRequest {
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
  /** The other answer's label ("Cancel" unless set). */
  cancelLabel?: string;
}

interface Pending extends ConfirmRequest {
  resolve: (ok: boolean) => void;
}

class Confirmation {
  pending = $state<Pending | null>(null);

  ask(req: ConfirmRequest): Promise<boolean> {
    this.pending?.resolve(false);
    return new Promise((resolve) => {
      this.pending = { ...req, resolve };
    });
  }

  answer(ok: boolean): void {
    const p = this.pending;
    this.pending = null;
    p?.resolve(ok);
  }
}

export const confirmation = new Confirmation();

export const confirmAction = (req: ConfirmRequest) => confirmation.ask(req);
