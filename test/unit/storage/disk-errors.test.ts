import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../../server/errors';
import { asDiskError, diskErrorCode } from '../../../server/storage/disk-errors';

/** What sharp 0.35 threw when a tmpfs filled up under toFile() (captured on this project's machine). */
const LIBVIPS_ENOSPC = '/tmp/pir6-tmpfs/out.png: write error\nsystem error: No space left on device\nwbuffer_write: write failed\n'
  + 'system error: Unknown error -1\nvips2png: unable to write to target /tmp/pir6-tmpfs/out.png';

const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

describe('disk errors', () => {
  it('reads the errno of a Node fs error or a libvips message', () => {
    for (const code of ['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']) assert.equal(diskErrorCode(errno(code)), code);
    assert.equal(diskErrorCode(new Error(LIBVIPS_ENOSPC)), 'ENOSPC');
    assert.equal(diskErrorCode(new Error('tiffload: Input/output error')), 'EIO');
  });

  it('leaves image faults and other errors alone', () => {
    for (const err of [new Error('VipsJpeg: premature end of JPEG image'), errno('ENOENT'), errno('EACCES'), 'text', undefined]) {
      assert.equal(diskErrorCode(err), undefined);
      assert.equal(asDiskError(err), undefined);
    }
    assert.equal(asDiskError(new AppError('invalid_image', 'No space left on device, says the image')), undefined);
  });

  it('maps a full disk to 507 and a failing one to 500, keeping the cause for the log', () => {
    const full = asDiskError(new Error(LIBVIPS_ENOSPC))!;
    assert.deepEqual([full.code, full.status], ['insufficient_storage', 507]);
    assert.match((full.cause as Error).message, /No space left/);
    const failed = asDiskError(errno('EIO'))!;
    assert.deepEqual([failed.code, failed.status], ['internal_error', 500]);
    assert.doesNotMatch(failed.message, /\//, 'no path in what the client reads');
  });
});
