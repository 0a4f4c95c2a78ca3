/**
 * Finds the words a person reads in a Svelte component that are written in it instead of coming
 * from a message: text between tags and the attributes read aloud or shown (aria-label,
 * placeholder, title, alt). Expressions ({m.x()}) are not text, so converted markup passes.
 */
import { parse } from 'svelte/compiler';

/** Attributes whose value a person sees or hears. */
const READ_ATTRIBUTES = new Set([
  'aria-label',
  'aria-description',
  'aria-placeholder',
  'aria-roledescription',
  'aria-valuetext',
  'placeholder',
  'title',
  'alt',
  'label',
]);

/** Words that are the same in every language: the product's name. */
const SAME_IN_EVERY_LANGUAGE = new Set(['FieldDx']);

export interface Literal {
  line: number;
  text: string;
}

type Node = { type: string; [key: string]: unknown };

const isWords = (text: string) => {
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return /\p{L}/u.test(trimmed) && !SAME_IN_EVERY_LANGUAGE.has(trimmed) ? trimmed : null;
};

/**
 * Strings written inside a {…} shown as text ({done ? 'Saved' : 'Saving…'}) that read as words to
 * a person: a capital letter or a space between letters. Keys and class names ('agree') pass.
 */
function sentencesIn(expression: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const n = node as Node;
    // Arguments of a call are code (keys, formats), not shown as they are.
    if (n.type === 'CallExpression') return;
    const value =
      n.type === 'Literal' && typeof n.value === 'string'
        ? n.value
        : n.type === 'TemplateElement'
          ? String((n.value as { cooked?: string }).cooked ?? '')
          : null;
    if (value !== null && /\p{Lu}\p{Ll}|\p{L}\s+\p{L}/u.test(value)) out.push(value.trim());
    for (const [key, child] of Object.entries(n)) {
      if (key !== 'loc' && key !== 'metadata') walk(child);
    }
  };
  walk(expression);
  return out;
}

function lineOf(source: string, offset: number): number {
  return source.slice(0, offset).split('\n').length;
}

export function findLiterals(source: string): Literal[] {
  const ast = parse(source, { modern: true }) as unknown as { fragment: Node };
  const found: Literal[] = [];
  const visit = (node: unknown, parentName?: string) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child, parentName);
      return;
    }
    const n = node as Node;
    if (n.type === 'Text' && parentName !== 'style') {
      const text = isWords(String(n.data));
      if (text) found.push({ line: lineOf(source, Number(n.start)), text });
      return;
    }
    if (n.type === 'Attribute') {
      const name = String(n.name);
      if (READ_ATTRIBUTES.has(name) && Array.isArray(n.value)) {
        for (const part of n.value as Node[]) {
          const text = part.type === 'Text' ? isWords(String(part.data)) : null;
          if (text)
            found.push({ line: lineOf(source, Number(part.start)), text: `${name}="${text}"` });
        }
      }
      return;
    }
    if (n.type === 'ExpressionTag') {
      for (const text of sentencesIn(n.expression)) {
        found.push({ line: lineOf(source, Number(n.start)), text: `{'${text}'}` });
      }
      return;
    }
    // Scripts and styles hold code, not text.
    if (['Script', 'StyleSheet', 'HtmlTag'].includes(n.type)) return;
    const name = typeof n.name === 'string' ? n.name : parentName;
    for (const [key, value] of Object.entries(n)) {
      if (key === 'expression' || key === 'metadata') continue;
      if (value && typeof value === 'object') visit(value, name);
    }
  };
  visit(ast.fragment);
  return found;
}
