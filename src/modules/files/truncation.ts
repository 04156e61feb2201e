/**
 * A cheap, streaming check that an uploaded image does not end before its own structure says
 * it does (issue #17 point 7): a truncated JPEG or PNG passes the header probe but fails every
 * render. Each walker only follows lengths and markers as the bytes stream past (no decoding,
 * a few bytes of state), so it costs a scan for 0xFF in JPEG entropy data and nothing more.
 *
 * - JPEG: segments by length, entropy data scanned for markers, up to the end-of-image marker
 *   (EOI); what follows it is ignored (motion photos and trailers append data there).
 * - PNG: chunks by length; the stream must not end inside one (a missing IEND alone decodes).
 * - HEIF/AVIF: top-level ISO-BMFF boxes by size; the stream must not end inside one.
 */

export interface TruncationCheck {
  push(chunk: Uint8Array): void;
  /** Called at the end of the stream: why the bytes are cut short, or null when they are whole. */
  end(): string | null;
}

/** The check for a sniffed type, or null when there is none for it. */
export function truncationCheckFor(contentType: string): TruncationCheck | null {
  switch (contentType) {
    case 'image/jpeg': return jpegCheck();
    case 'image/png': return pngCheck();
    case 'image/avif': case 'image/heic': case 'image/heif': return isoBoxCheck();
    default: return null;
  }
}

/** Markers without a length field: TEM, RST0–7, SOI. */
const standalone = (m: number) => m === 0x01 || (m >= 0xd0 && m <= 0xd8);

function jpegCheck(): TruncationCheck {
  // marker: expecting 0xFF; code: the byte after 0xFF; len1/len2: segment length; skip: segment
  // body; scan: entropy-coded data after SOS; scanFF: the byte after 0xFF inside it.
  let state: 'marker' | 'code' | 'len1' | 'len2' | 'skip' | 'scan' | 'scanFF' | 'done' = 'marker';
  let marker = 0;
  let length = 0;
  let skip = 0;
  let afterSkip: 'marker' | 'scan' = 'marker';

  const onMarker = (m: number) => {
    if (m === 0xd9) state = 'done';
    else if (standalone(m)) state = 'marker';
    else {
      marker = m;
      state = 'len1';
    }
  };

  return {
    push(chunk) {
      let i = 0;
      const n = chunk.length;
      while (i < n && state !== 'done') {
        switch (state) {
          case 'marker': {
            // Bytes before a marker are tolerated (libjpeg skips them with a warning).
            const at = chunk.indexOf(0xff, i);
            if (at < 0) return;
            i = at + 1;
            state = 'code';
            break;
          }
          case 'code': {
            const m = chunk[i++]!;
            if (m !== 0xff) onMarker(m); // 0xFF repeated is fill
            break;
          }
          case 'len1':
            length = chunk[i++]! << 8;
            state = 'len2';
            break;
          case 'len2':
            length |= chunk[i++]!;
            skip = Math.max(0, length - 2);
            afterSkip = marker === 0xda ? 'scan' : 'marker'; // SOS: its header, then entropy data
            state = 'skip';
            break;
          case 'skip': {
            const take = Math.min(skip, n - i);
            skip -= take;
            i += take;
            if (skip === 0) state = afterSkip;
            break;
          }
          case 'scan': {
            const at = chunk.indexOf(0xff, i);
            if (at < 0) return;
            i = at + 1;
            state = 'scanFF';
            break;
          }
          case 'scanFF': {
            const b = chunk[i++]!;
            if (b === 0x00 || (b >= 0xd0 && b <= 0xd7)) state = 'scan'; // stuffed byte, restart marker
            else if (b !== 0xff) onMarker(b);
            break;
          }
        }
      }
    },
    end: () => (state === 'done' ? null : 'the JPEG data ends before its end-of-image marker (the file is truncated)'),
  };
}

function pngCheck(): TruncationCheck {
  let signature = 8;
  const header = new Uint8Array(8);
  let have = 0;
  let skip = 0;
  let type = '';
  let done = false;
  let broken: string | null = null;

  return {
    push(chunk) {
      let i = 0;
      const n = chunk.length;
      while (i < n && !done && !broken) {
        if (signature > 0) {
          const take = Math.min(signature, n - i);
          signature -= take;
          i += take;
        } else if (skip > 0) {
          const take = Math.min(skip, n - i);
          skip -= take;
          i += take;
        } else {
          header[have++] = chunk[i++]!;
          if (have < 8) continue;
          have = 0;
          const length = ((header[0]! << 24) >>> 0) + (header[1]! << 16) + (header[2]! << 8) + header[3]!;
          type = String.fromCharCode(header[4]!, header[5]!, header[6]!, header[7]!);
          if (length > 0x7fffffff) broken = `the PNG chunk ${JSON.stringify(type)} declares an impossible length (the file is corrupt)`;
          skip = length + 4; // data and CRC
          if (type === 'IEND') done = true;
        }
      }
    },
    end() {
      if (broken) return broken;
      if (done || (signature === 0 && skip === 0 && have === 0)) return null;
      return `the PNG data ends inside its ${JSON.stringify(type || 'signature')} chunk (the file is truncated)`;
    },
  };
}

function isoBoxCheck(): TruncationCheck {
  const header = new Uint8Array(16);
  let have = 0;
  let skip = 0;
  let type = '';
  let toEnd = false;
  let broken: string | null = null;

  return {
    push(chunk) {
      let i = 0;
      const n = chunk.length;
      while (i < n && !toEnd && !broken) {
        if (skip > 0) {
          const take = Math.min(skip, n - i);
          skip -= take;
          i += take;
          continue;
        }
        header[have++] = chunk[i++]!;
        if (have < 8) continue;
        const size32 = ((header[0]! << 24) >>> 0) + (header[1]! << 16) + (header[2]! << 8) + header[3]!;
        if (size32 === 1 && have < 16) continue; // a 64-bit size follows the type
        type = String.fromCharCode(header[4]!, header[5]!, header[6]!, header[7]!);
        const headerBytes = have;
        have = 0;
        if (size32 === 0) {
          toEnd = true; // the last box runs to the end of the file
          continue;
        }
        const size = size32 === 1
          ? Number((BigInt(((header[8]! << 24) >>> 0) + (header[9]! << 16) + (header[10]! << 8) + header[11]!) << 32n)
            + BigInt(((header[12]! << 24) >>> 0) + (header[13]! << 16) + (header[14]! << 8) + header[15]!))
          : size32;
        if (size < headerBytes) broken = `the box ${JSON.stringify(type)} declares an impossible size (the file is corrupt)`;
        skip = size - headerBytes;
      }
    },
    end() {
      if (broken) return broken;
      if (toEnd || (skip === 0 && have === 0)) return null;
      return `the file ends inside its ${JSON.stringify(type || 'header')} box (the file is truncated)`;
    },
  };
}
