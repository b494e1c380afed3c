// Colour as data: renderers get a Paint and never detect terminals themselves.

export interface Paint {
  readonly enabled: boolean;
  dim(s: string): string;
  bold(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const id = (s: string) => s;

export const plain: Paint = { enabled: false, dim: id, bold: id, green: id, red: id, yellow: id, cyan: id };
