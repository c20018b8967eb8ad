// sound.js — the short alert played when something needs the person: two rising sine
// beeps synthesised with WebAudio (no audio file). Runs where a DOM exists: Chrome's
// offscreen document (offscreen.js), Firefox's background page (platform.js).

/**
 * Plays the alert once. Resolves (never rejects) with `{played, state}`: whether the
 * audio context ran, and its final state (`suspended` when the browser refused audio).
 */
export async function beep() {
  let ctx;
  try {
    ctx = new AudioContext();
    // resume() stays pending for as long as the browser refuses audio (Firefox does so
    // under its autoplay policy): wait for it briefly, never for ever.
    if (ctx.state === 'suspended') {
      await Promise.race([ctx.resume().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 300))]);
    }
    const t0 = ctx.currentTime + 0.02;
    [880, 1320].forEach((freq, i) => {
      const start = t0 + i * 0.18;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.17);
    });
    const state = ctx.state;
    await new Promise((resolve) => setTimeout(resolve, 450));
    return { played: state === 'running', state };
  } catch (e) {
    return { played: false, state: 'error', message: String(e?.message ?? e) };
  } finally {
    ctx?.close().catch(() => {});
  }
}
