// @ts-check
// Plain JavaScript, no build step, checked against the contract by TypeScript (page/jsconfig.json: your editor shows
// a misspelt event name or a wrong field as you type; `npx tsc -p page` checks from the command line).

/** @type {VizContract.Socket} */
const socket = new viz.WebSocket();
let clicks = 0;
/** @type {number | null} */
let trial = null;

const trialText = /** @type {HTMLElement} */ (document.getElementById('trial'));
const poseText = /** @type {HTMLElement} */ (document.getElementById('pose'));
const button = /** @type {HTMLButtonElement} */ (document.getElementById('click'));

socket.onevent('trial_started', e => {
  trial = e.data.trial;
  trialText.textContent = `${e.data.trial} (${e.data.participant}: ${e.data.conditions.join(', ')})`;
});

socket.onevent('pose', e => {
  poseText.textContent = `${e.data.x.toFixed(2)}, ${e.data.y.toFixed(2)}, ${e.data.z.toFixed(2)}`;
});

button.onclick = () => {
  clicks += 1;
  socket.send('button_click', { count: clicks, trial });
};
