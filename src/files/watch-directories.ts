import { watch, type FSWatcher } from 'node:fs';

export interface DirectoryWatchOptions {
  readonly debounceMs: number;
  /** Whether the watch alone keeps the process alive (the config watch does; the credential watch does not). */
  readonly persistent: boolean;
  /** Called once the events have stopped for `debounceMs`, never after `close()`. */
  readonly onSettled: () => void;
  /** A watcher failure (the directory vanished, inotify limits). */
  readonly onError: (error: unknown) => void;
}

export interface DirectoryWatch {
  close(): void;
}

/**
 * Watches whole directories (editors and `rename`-based atomic writes replace files, which a
 * watch on the file itself would lose) and debounces their events into one `onSettled` call.
 * `namesByDirectory` says which names matter in each directory; undefined means every name. Some
 * platforms omit the name: such an event always counts (a spurious check is cheap). Throws when a
 * directory cannot be watched, after closing the watches already opened.
 */
export function watchDirectories(namesByDirectory: ReadonlyMap<string, ReadonlySet<string> | undefined>, options: DirectoryWatchOptions): DirectoryWatch {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) options.onSettled();
    }, options.debounceMs);
  };

  const watchers: FSWatcher[] = [];
  try {
    for (const [directory, names] of namesByDirectory) {
      const watcher = watch(directory, { persistent: options.persistent }, (_event, filename) => {
        if (names === undefined || filename === null || names.has(filename.toString())) schedule();
      });
      watcher.on('error', (error) => options.onError(error));
      watchers.push(watcher);
    }
  } catch (error) {
    for (const watcher of watchers) watcher.close();
    throw error;
  }
  return {
    close(): void {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
