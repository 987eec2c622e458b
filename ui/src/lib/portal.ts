// Moves an element to <body> so popovers are not clipped by rows that contain their paint
// (the token rows use content-visibility for speed).

export function portal(node: HTMLElement): { destroy(): void } {
  document.body.appendChild(node);
  return {
    destroy() {
      node.remove();
    },
  };
}
