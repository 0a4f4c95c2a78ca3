/**
 * A small built-in list of passwords that meet the length rule but are among the first an attacker
 * tries. Compared case-insensitively. Kept short on purpose: this is a speed bump, not a breach
 * corpus, and it ships to the browser with the rest of the protocol.
 */
export const COMMON_PASSWORDS: readonly string[] = [
  '1234567890',
  '12345678910',
  '0123456789',
  '0987654321',
  '1111111111',
  '0000000000',
  '1234512345',
  '1122334455',
  '123456789a',
  'a123456789',
  '123123123123',
  'password12',
  'password123',
  'password1234',
  'password!!',
  'passw0rd123',
  'p@ssword123',
  'p@ssw0rd123',
  'qwertyuiop',
  'qwerty1234',
  'qwerty12345',
  'qwerty123456',
  '1qaz2wsx3edc',
  'zaq12wsxcde3',
  'asdfghjkl1',
  'asdfghjkl;',
  'zxcvbnm123',
  'iloveyou12',
  'iloveyou123',
  'letmein123',
  'letmein1234',
  'welcome123',
  'welcome1234',
  'changeme123',
  'admin12345',
  'admin123456',
  'administrator',
  'abcdefghij',
  'abcd123456',
  'abc1234567',
  'football123',
  'baseball123',
  'superman123',
  'sunshine123',
  'princess123',
  'dragon1234',
  'monkey1234',
  'trustno1234',
  'starwars123',
  'computer123',
  'fielddx123',
  'fielddx1234',
  'doctor1234',
  'hospital123',
];

const COMMON = new Set(COMMON_PASSWORDS.map((p) => p.toLowerCase()));

export function isCommonPassword(password: string): boolean {
  return COMMON.has(password.toLowerCase());
}
