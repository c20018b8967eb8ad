// offscreen.js — Chrome's offscreen document: plays the alert when the service worker
// asks ({type: "offscreen.beep"} → {played, state}). Only chrome.runtime is available here.

import { beep } from './sound.js';

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (message?.type !== 'offscreen.beep' || sender?.id !== chrome.runtime.id) return false;
  beep().then(sendResponse);
  return true;
});
