// Draws the flow interface's bitmap assets (background, default avatar, favicon) on the
// browser's canvas, so that they can be regenerated and changed from this file:
//   cd tests/browser && node make-assets.mjs
// The output is deterministic for a given Chromium.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'htdocs', 'static', 'dist', 'assets');

const browser = await chromium.launch({ executablePath: process.env.CU_BROWSER_CHROMIUM || '/usr/bin/chromium',
	headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage();
const images = await page.evaluate(() => {
	const draw = (w, h, paint, type, quality) => {
		const c = document.createElement('canvas');
		c.width = w;
		c.height = h;
		paint(c.getContext('2d'), w, h);
		return c.toDataURL(type, quality);
	};
	// A diagonal blue gradient with a soft light in the upper right.
	const background = draw(960, 540, (g, w, h) => {
		const lg = g.createLinearGradient(0, 0, w, h);
		lg.addColorStop(0, '#1c2a48');
		lg.addColorStop(0.55, '#24507a');
		lg.addColorStop(1, '#3f8fa8');
		g.fillStyle = lg;
		g.fillRect(0, 0, w, h);
		const rg = g.createRadialGradient(w * 0.8, h * 0.2, 10, w * 0.8, h * 0.2, w * 0.6);
		rg.addColorStop(0, 'rgba(255,255,255,0.18)');
		rg.addColorStop(1, 'rgba(255,255,255,0)');
		g.fillStyle = rg;
		g.fillRect(0, 0, w, h);
	}, 'image/jpeg', 0.85);
	// A grey head-and-shoulders silhouette.
	const avatar = draw(64, 64, (g, w, h) => {
		g.fillStyle = '#d2d2d2';
		g.fillRect(0, 0, w, h);
		g.fillStyle = '#8a8d90';
		g.beginPath();
		g.arc(32, 24, 12, 0, Math.PI * 2);
		g.fill();
		g.beginPath();
		g.ellipse(32, 64, 24, 22, 0, Math.PI, 0);
		g.fill();
	}, 'image/png');
	// The logo's mark: a white open ring on a blue disc.
	const icon = draw(32, 32, (g) => {
		g.fillStyle = '#24507a';
		g.beginPath();
		g.arc(16, 16, 15, 0, Math.PI * 2);
		g.fill();
		g.strokeStyle = '#ffffff';
		g.lineWidth = 3;
		g.beginPath();
		g.arc(16, 16, 7, 0.6, Math.PI * 2 - 0.6);
		g.stroke();
	}, 'image/png');
	return { background, avatar, icon };
});
await browser.close();

const save = (name, dataUrl) => writeFileSync(join(OUT, name), Buffer.from(dataUrl.split(',')[1], 'base64'));
save('images/flow_background.jpg', images.background);
save('images/user_default.png', images.avatar);
save('icons/icon.png', images.icon);
