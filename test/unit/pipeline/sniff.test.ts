import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { sniffImageFormat } from '../../../server/pipeline/sniff';

describe('sniffImageFormat', () => {
  it('knows every accepted format by its bytes', async () => {
    const base = sharp({ create: { width: 4, height: 4, channels: 3, background: '#369' } });
    const formats = ['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif'] as const;
    for (const format of formats) {
      const bytes = format === 'heif'
        ? await base.clone().heif({ compression: 'av1' }).toBuffer()
        : await base.clone().toFormat(format).toBuffer();
      assert.equal(sniffImageFormat(bytes.subarray(0, 16)), format, format);
    }
  });

  it('refuses anything else, including short and empty input', () => {
    for (const text of ['', 'GIF8', '<svg xmlns="http://www.w3.org/2000/svg"/>', '%PDF-1.7', 'BM6\0\0\0']) {
      assert.equal(sniffImageFormat(Buffer.from(text)), null, text);
    }
  });
});
