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

/** Sets the accent colour and a readable text colour on it, as the CSS variables the styles use. */
export function applyAccent(color: string): void {
  const hex = color.length === 4 ? color.slice(1).split('').map((c) => c + c).join('') : color.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const luminance = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  const root = document.documentElement.style;
  root.setProperty('--accent', color);
  root.setProperty('--accent-text', luminance > 0.45 ? '#111111' : '#ffffff');
  root.setProperty('--accent-soft', `color-mix(in srgb, ${color} 14%, transparent)`);
}
