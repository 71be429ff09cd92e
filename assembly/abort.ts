// Routes AssemblyScript's abort (assertion, bounds or allocation failure) into the error buffer
// and traps, so the module imports nothing (no env.abort): wasm3 refuses unresolved imports.
import { writeError } from './error';

export function onAbort(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {
  let text = 'edgec: internal abort';
  if (message !== null) text += ': ' + message;
  if (fileName !== null) text += ' (' + fileName + ':' + lineNumber.toString() + ':' + columnNumber.toString() + ')';
  writeError(text);
  unreachable();
}
