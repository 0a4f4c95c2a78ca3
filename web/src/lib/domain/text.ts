/** Lower case without accents, for search and comparison: "Émile" → "emile". */
export function foldText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .trim();
}

/** The words of a text, folded: "N'Diaye-Sow  Émile" → ["n", "diaye", "sow", "emile"]. */
export function words(text: string): string[] {
  return foldText(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}
