import type { StoredImage } from '../storage/image-store';
import type { ImageRecord } from './schemas/images';

/** An image record as the API shows it (typed by its schema): the stored facts plus where to fetch the PNG. */
export type { ImageRecord };

/** The API's view of a stored image. */
export function present(image: StoredImage): ImageRecord {
  const { id, source, ...rest } = image;
  return { id, source, url: `/images/${id}`, ...rest };
}
