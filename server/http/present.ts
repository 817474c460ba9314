import type { StoredImage } from '../storage/image-store';

/** An image record as the API shows it: the stored facts plus where to fetch the PNG. */
export type ImageRecord = StoredImage & { url: string };

/** The API's view of a stored image. */
export function present(image: StoredImage): ImageRecord {
  const { id, source, ...rest } = image;
  return { id, source, url: `/images/${id}`, ...rest };
}
