/** Codes for a bundled data file Veil cannot use. */
export type DatasetErrorCode = 'dataset_malformed' | 'dataset_invalid_split';

/** A data set file or split request is wrong. `details` carries the file and line; messages never quote whole rows. */
export class DatasetError extends Error {
  override name = 'DatasetError' as const;
  constructor(readonly code: DatasetErrorCode, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}
