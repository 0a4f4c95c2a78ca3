import { describe, expect, it } from 'vitest';
import { saveStatusText } from './autosave.svelte';

describe('saveStatusText', () => {
  it('says where the text is for every status', () => {
    expect(saveStatusText('saved')).toBe('Saved on this device');
    expect(saveStatusText('saving')).toBe('Saving…');
    expect(saveStatusText('draft')).toBe('Draft kept; fix the marked fields');
    expect(saveStatusText('partial')).toBe('Draft kept; fix the marked fields. The rest is saved.');
    expect(saveStatusText('error')).toBe('Not saved');
  });
});
