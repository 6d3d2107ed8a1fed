// app.js is browser code; the bundle imports it as text.
declare const source: string;
export default source;
