import { describe, expect, it } from 'vitest';
import { toggled } from './lists';

describe('toggled', () => {
  it('adds once at the end, removes every copy, and leaves the input alone', () => {
    const list = ['fever', 'cough'];
    expect(toggled(list, 'rash', true)).toEqual(['fever', 'cough', 'rash']);
    expect(toggled(list, 'fever', true)).toEqual(['cough', 'fever']);
    expect(toggled(list, 'fever', false)).toEqual(['cough']);
    expect(toggled(list, 'rash', false)).toEqual(['fever', 'cough']);
    expect(list).toEqual(['fever', 'cough']);
  });
});
