// Short notices at the bottom of the window ("Copied — clipboard clears in 30 s").

export interface Toast {
  id: number;
  message: string;
  kind: 'info' | 'error';
}

class Toasts {
  items = $state<Toast[]>([]);
  #next = 1;

  show(message: string, kind: Toast['kind'] = 'info', ms = 4000): void {
    const id = this.#next++;
    this.items = [...this.items.slice(-2), { id, message, kind }];
    setTimeout(() => this.dismiss(id), ms);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}

export const toasts = new Toasts();
