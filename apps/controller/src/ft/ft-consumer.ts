/** Allocation consumer of an FT secondary's reservation on its host (the primary keeps `<id>`). */
export const ftConsumer = (instanceId: string): string => `${instanceId}#ft`;
