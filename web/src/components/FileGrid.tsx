import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { formatBytes, type FileItem } from '../api';
import { kindOf, Thumb } from './Thumb';

interface Props {
  items: FileItem[];
  view: 'grid' | 'list';
  selected: Set<string>;
  /** `range`: Shift was held (extend the selection from the last tile ticked). */
  onToggle: (id: string, range: boolean) => void;
  hasMore: boolean;
  onNearEnd: () => void;
}

const MIN_TILE = 150;
const GAP = 12;
const CAPTION = 30;
const LIST_ROW = 56;
const OVERSCAN = 4;

/**
 * Windowed rendering: only the rows in (or near) the viewport exist in the DOM, so a library of
 * 100 000 files costs the same as one of 100. Rows are absolutely placed inside a box as tall as
 * all rows together; the page's own scroll moves through it. Reaching the last rows asks for the
 * next cursor page.
 */
export function FileGrid({ items, view, selected, onToggle, hasMore, onNearEnd }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  const [range, setRange] = useState<[number, number]>([0, 20]);

  // As many columns of at least MIN_TILE px as fit, sharing the width (two columns at 360 px).
  const cols = view === 'grid' ? Math.max(1, Math.floor((width + GAP) / (MIN_TILE + GAP))) : 1;
  const tile = Math.floor((width - (cols - 1) * GAP) / cols);
  const rowH = view === 'grid' ? tile + CAPTION + GAP : LIST_ROW;
  const rows = Math.ceil(items.length / cols);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => {
      setWidth(el.clientWidth);
      const top = el.getBoundingClientRect().top;
      const first = Math.max(0, Math.floor(-top / rowH) - OVERSCAN);
      const last = Math.ceil((window.innerHeight - top) / rowH) + OVERSCAN;
      setRange((r) => (r[0] === first && r[1] === last ? r : [first, last]));
    };
    measure();
    // The page's size too: content above the grid that folds away (an upload list once done)
    // moves the grid without resizing it, and the rows in view were worked out where it was.
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    ro.observe(document.body);
    window.addEventListener('scroll', measure, { passive: true });
    window.addEventListener('resize', measure);
    return () => {
      ro.disconnect();
      window.removeEventListener('scroll', measure);
      window.removeEventListener('resize', measure);
    };
  }, [rowH, items.length]);

  const [first, last] = range;
  const end = Math.min(rows, last);
  useEffect(() => {
    if (hasMore && end >= rows - OVERSCAN) onNearEnd();
  }, [end, rows, hasMore]);

  // Cells are siblings keyed by file id, each placed by its own transform: when the column count
  // changes (a resize), a cell moves by style alone and is never re-parented, so keyboard focus and
  // a loaded thumbnail survive it.
  const visible: preact.JSX.Element[] = [];
  for (let i = first * cols; i < Math.min(items.length, end * cols); i++) {
    const f = items[i]!;
    const x = (i % cols) * (tile + GAP);
    const y = Math.floor(i / cols) * rowH;
    const style: Record<string, string> = view === 'grid'
      ? { transform: `translate(${x}px, ${y}px)`, width: `${tile}px` }
      : { transform: `translateY(${y}px)`, height: `${rowH}px` };
    visible.push(<Cell key={f.id} file={f} view={view} tile={tile} style={style} checked={selected.has(f.id)} onToggle={onToggle} />);
  }
  return (
    <div ref={box} id="files" tabIndex={-1} class="files" style={{ height: `${rows * rowH}px` }} aria-label="Files" role="list">
      {visible}
    </div>
  );
}

interface CellProps { file: FileItem; view: 'grid' | 'list'; tile: number; style: Record<string, string>; checked: boolean; onToggle: (id: string, range: boolean) => void }

function Cell({ file, view, tile, style, checked, onToggle }: CellProps) {
  const href = `/files/${encodeURIComponent(file.id)}`;
  return (
    <div class={`cell ${view}${checked ? ' selected' : ''}`} role="listitem" style={style}>
      <input type="checkbox" class="pick" checked={checked} onClick={(e) => onToggle(file.id, e.shiftKey)} aria-label={`Select ${file.name}`} />
      <a href={href} class="open" title={file.name}>
        <Thumb file={file} size={view === 'grid' ? tile : 40} />
        <span class="name">{file.name}</span>
        {view === 'list' && (
          <span class="meta">
            {kindOf(file)} · {formatBytes(file.size)} · {file.is_public ? 'public' : 'private'} · {new Date(file.created_at).toLocaleDateString(undefined, { dateStyle: 'medium' })}{file.tags.length ? ` · ${file.tags.map((t) => `#${t}`).join(' ')}` : ''}
          </span>
        )}
      </a>
    </div>
  );
}
