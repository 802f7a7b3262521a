// Tests switch backends freely; tfjs's "install tfjs-node" banner on the cpu backend's first use is noise here.
// (Not tf.env IS_TEST: that also turns on tfjs's per-kernel data-id check, which misreads the wasm kernel fixes'
// short-lived intermediates as leaks; test/kernels checks their memory directly.)
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('looks like you are running TensorFlow.js in Node.js')) return;
  warn(...args);
};
