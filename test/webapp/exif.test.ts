/** The details page's EXIF rows read as a photographer writes them, not as the tags store them. */
import { expect, test } from 'bun:test';
import { exifRows } from '../../web/src/components/exif';

test('known tags in words and units, in order; unknown ones as they came', () => {
  expect(exifRows({
    FNumber: 2.8, ExposureTime: 0.004, Make: 'Canon', Model: 'Canon EOS R5', ISOSpeedRatings: [400], FocalLength: 35.00001,
    Flash: 16, DateTimeOriginal: '2024-05-01T14:03:22.000Z', Orientation: 6, PixelXDimension: 6000, PixelYDimension: 4000, Custom: { a: 1 },
  })).toEqual([
    ['Camera', 'Canon EOS R5'],
    ['Exposure', '1/250 s'],
    ['Aperture', 'f/2.8'],
    ['ISO', '400'],
    ['Focal length', '35 mm'],
    ['Flash', 'Did not fire'],
    ['Taken', '2024-05-01 14:03:22'],
    ['Orientation', 'Rotated 90° clockwise'],
    ['Pixel size', '6000 × 4000'],
    ['Custom', '{"a":1}'],
  ]);
  expect(exifRows({ Make: 'NIKON CORPORATION', Model: 'NIKON D750', ExposureTime: 2.5, Flash: 9 })).toEqual([
    ['Camera', 'NIKON D750'], ['Exposure', '2.5 s'], ['Flash', 'Fired'],
  ]);
  expect(exifRows({ Make: 'FUJIFILM', Model: 'X100V' })).toEqual([['Camera', 'FUJIFILM X100V']]);
  expect(exifRows({ Model: 'X100V', ExposureTime: 0, FNumber: 'n/a' })).toEqual([['Camera', 'X100V']]);
});
