import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// One build serves the dashboard and the portal: the server answers /app-portal/* with the same
// index.html, whose assets live under /dashboard/assets/ (hashed names, cached for good).
export default defineConfig({
  base: '/dashboard/',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Small enough to read in devtools; the server compresses once at start.
    sourcemap: false,
    chunkSizeWarningLimit: 250,
  },
});
