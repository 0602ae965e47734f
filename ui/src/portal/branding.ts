import type { Metadata } from '../api/types.ts';

/** How the portal looks: the embedder's name, logo, colour and theme. */
export interface Branding {
  name: string | null;
  logo: string | null;
  color: string | null;
  theme: 'light' | 'dark' | null;
}

const FIELDS = ['name', 'logo', 'color', 'theme'] as const;

/**
 * Branding from the link's query (`?name=&logo=&color=&theme=`), kept for the tab so it survives
 * navigation and reloads, over the application's metadata (`portal.name`, `portal.logo`, ...).
 */
export function brandingFrom(search: string, appId: string, metadata: Metadata | undefined): Branding {
  const key = `herald.portal.brand.${appId}`;
  const query = new URLSearchParams(search);
  let kept: Partial<Record<(typeof FIELDS)[number], string>> = {};
  try {
    kept = JSON.parse(sessionStorage.getItem(key) ?? '{}');
  } catch {}
  if (FIELDS.some((field) => query.has(field))) {
    kept = Object.fromEntries(FIELDS.filter((field) => query.has(field)).map((field) => [field, query.get(field)!]));
    try {
      sessionStorage.setItem(key, JSON.stringify(kept));
    } catch {}
  }
  const pick = (field: (typeof FIELDS)[number]) => kept[field] ?? metadata?.[`portal.${field}`] ?? null;
  const theme = pick('theme');
  return {
    name: pick('name')?.slice(0, 80) || null,
    logo: safeImage(pick('logo')),
    color: safeColor(pick('color')),
    theme: theme === 'dark' || theme === 'light' ? theme : null,
  };
}

// Only images the CSP lets in anyway (https: and data:), never javascript: or the like.
function safeImage(value: string | null): string | null {
  if (!value) return null;
  if (/^data:image\/(png|jpeg|gif|webp|svg\+xml)[;,]/i.test(value)) return value;
  try {
    return new URL(value).protocol === 'https:' ? value : null;
  } catch {
    return null;
  }
}

/** A hex colour (#abc, #aabbcc), with or without its `#`, which a link's query often drops. */
function safeColor(value: string | null): string | null {
  if (!value) return null;
  const hex = value.startsWith('#') ? value.slice(1) : value;
  return /^([0-9a-f]{3}|[0-9a-f]{6})$/i.test(hex) ? `#${hex}` : null;
}

type Rgb = [number, number, number];

const rgbOf = (color: string): Rgb => {
  const hex = color.length === 4 ? color.slice(1).split('').map((c) => c + c).join('') : color.slice(1);
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb;
};

/** WCAG's relative luminance of an sRGB colour (0-255 components). */
function luminance(rgb: Rgb): number {
  const [r, g, b] = rgb.map((c) => c / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

const contrast = (a: Rgb, b: Rgb) => {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high! + 0.05) / (low! + 0.05);
};

// Each theme's text colour and the lightest background text in the accent sits on (styles.css).
const THEMES: Array<{ text: Rgb; background: Rgb }> = [
  { text: rgbOf('#1b1d23'), background: rgbOf('#ffffff') },
  { text: rgbOf('#e7e8ec'), background: rgbOf('#242731') },
];

/**
 * How much of the accent a text colour keeps, mixed with the theme's text colour (CSS color-mix
 * in sRGB), to read at WCAG AA (4.5:1) on that theme's backgrounds: a pale brand colour makes
 * pale links on white, a dark one dark links on a dark page.
 */
function inkShare(accent: Rgb): number {
  let share = 100;
  for (const { text, background } of THEMES) {
    while (share > 0) {
      const mixed = accent.map((c, i) => (c * share + text[i]! * (100 - share)) / 100) as Rgb;
      if (contrast(mixed, background) >= 4.5) break;
      share -= 5;
    }
  }
  return share;
}

/**
 * Sets the accent colour, a readable text colour on it, and the accent as text on the page, as
 * the CSS variables the styles use.
 */
export function applyAccent(color: string): void {
  const rgb = rgbOf(color);
  const root = document.documentElement.style;
  root.setProperty('--accent', color);
  root.setProperty('--accent-text', luminance(rgb) > 0.45 ? '#111111' : '#ffffff');
  root.setProperty('--accent-soft', `color-mix(in srgb, ${color} 14%, transparent)`);
  root.setProperty('--accent-ink', `color-mix(in srgb, ${color} ${inkShare(rgb)}%, var(--text))`);
}
