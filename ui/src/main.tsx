import { render } from 'preact';
import { App } from './app.tsx';
import { applyTheme, storedTheme } from './theme.ts';
import './styles.css';

applyTheme(storedTheme(), false);
render(<App />, document.getElementById('app')!);
