/**
 * `JSON.stringify` of a string, remembering the last one. In a stream the same id, item id or model
 * name goes into every chunk; a template writer keeps its JSON from the chunk before instead of
 * escaping it again per chunk. A string in, a string out: a cache of a pure function, so sharing
 * one between streams is only a miss, never a wrong answer. Pure.
 */
export function createJsonStringCache(): (value: string) => string {
  let lastValue = '';
  let lastText = '""';
  return (value) => {
    if (value !== lastValue) {
      lastValue = value;
      lastText = JSON.stringify(value);
    }
    return lastText;
  };
}
