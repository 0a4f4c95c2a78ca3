/**
 * Dates, times and numbers as the reader's language writes them (Intl), never hand-built. Each
 * takes the locale explicitly so tests and the print view can ask for one; the default is the
 * app's language.
 */
import { getLocale } from '$lib/paraglide/runtime';

type DateInput = string | number | Date;
const toDate = (value: DateInput) => (value instanceof Date ? value : new Date(value));

/** "26 nov. 2026" / "Nov 26, 2026". */
export function formatDate(value: DateInput, locale: string = getLocale()): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(toDate(value));
}

/** A date with its time: "26/11/2026 14:05". */
export function formatDateTime(value: DateInput, locale: string = getLocale()): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(
    toDate(value),
  );
}

/** A calendar date kept as YYYY-MM-DD (e.g. a date of birth) shown without a time-zone shift. */
export function formatDay(isoDay: string, locale: string = getLocale()): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDay);
  if (!match) return isoDay;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
}

export function formatNumber(
  value: number,
  options: Intl.NumberFormatOptions = {},
  locale: string = getLocale(),
): string {
  return new Intl.NumberFormat(locale, options).format(value);
}

/** 0.873 → "87%" / "87 %" (French puts a space before the sign). */
export function formatPercent(fraction: number, digits = 0, locale: string = getLocale()): string {
  return new Intl.NumberFormat(locale, {
    style: 'percent',
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  }).format(fraction);
}

const UNITS: Record<string, string> = {
  kg: 'kilogram',
  g: 'gram',
  cm: 'centimeter',
  mm: 'millimeter',
  '°C': 'celsius',
  years: 'year',
  days: 'day',
  '%': 'percent',
  kB: 'kilobyte',
};

/**
 * A measurement with its unit: Intl's unit names where it has one (kg, cm, °C), else the number
 * then the unit as given (mmHg, /min are written the same in every language here).
 */
export function formatMeasure(
  value: number,
  unit: string,
  options: Intl.NumberFormatOptions = {},
  locale: string = getLocale(),
): string {
  const intlUnit = UNITS[unit];
  if (intlUnit) {
    return new Intl.NumberFormat(locale, { style: 'unit', unit: intlUnit, ...options }).format(
      value,
    );
  }
  const number = new Intl.NumberFormat(locale, options).format(value);
  return unit ? `${number} ${unit}` : number;
}
