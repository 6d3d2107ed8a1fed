// Dashboard files the bundle imports as text (see scripts/build.mjs).
declare module '*.html' {
  const text: string;
  export default text;
}
declare module '*.css' {
  const text: string;
  export default text;
}
