// A URL fit for a log line or an error message: the user:password part replaced.
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
