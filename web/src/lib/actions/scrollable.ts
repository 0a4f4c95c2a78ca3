/**
 * The scroll box of a wide table. Keyboard users must be able to reach a box that scrolls (WCAG
 * 2.1.1; axe's scrollable-region-focusable), so while its content overflows, on a phone say, it
 * is a focusable region named after its table; on a screen wide enough it adds no tab stop.
 */
export function scrollable(node: HTMLElement) {
  const update = () => {
    const overflows =
      node.scrollWidth > node.clientWidth + 1 || node.scrollHeight > node.clientHeight + 1;
    if (!overflows) {
      for (const name of ['tabindex', 'role', 'aria-label', 'aria-labelledby']) {
        node.removeAttribute(name);
      }
      return;
    }
    node.tabIndex = 0;
    node.setAttribute('role', 'region');
    const table = node.querySelector('table');
    const labelledBy = table?.getAttribute('aria-labelledby');
    const label =
      table?.getAttribute('aria-label') ?? table?.querySelector('caption')?.textContent?.trim();
    if (labelledBy) node.setAttribute('aria-labelledby', labelledBy);
    else if (label) node.setAttribute('aria-label', label);
  };
  const resized = new ResizeObserver(update);
  resized.observe(node);
  // Rows arriving (or a wider column) change the overflow without resizing the box.
  const changed = new MutationObserver(update);
  changed.observe(node, { childList: true, subtree: true, characterData: true });
  update();
  return {
    destroy() {
      resized.disconnect();
      changed.disconnect();
    },
  };
}
