import { JobError } from './errors';

/** A class a job registered, so its instances keep their prototype when serialized. */
export interface RegisteredType {
  readonly name: string;
  readonly prototype: object;
}

type Constructor = abstract new (...args: never[]) => unknown;

/**
 * The classes a job registered with env.registerType, as Flink registers POJO types. The
 * name travels with every instance, so it must be the same in every process: the job
 * function runs again in every TaskManager and registers the same classes there.
 */
export class TypeRegistry {
  private readonly byPrototype = new Map<object, RegisteredType>();
  private readonly byName = new Map<string, RegisteredType>();

  register(type: Constructor, name: string = type?.name): void {
    if (typeof type !== 'function' || typeof type.prototype !== 'object' || type.prototype === null) {
      throw new JobError(`registerType: expected a class, got ${describeArgument(type)}`);
    }
    if (BUILT_IN_PROTOTYPES.has(type.prototype)) {
      throw new JobError(`registerType: ${type.name} is built in; its instances need no registration`);
    }
    if (typeof name !== 'string' || name === '') {
      throw new JobError('registerType: the class has no name; pass one: env.registerType(MyClass, "MyClass")');
    }
    const known = this.byName.get(name);
    if (known && known.prototype !== type.prototype) {
      throw new JobError(`registerType: two classes are registered as "${name}"; pass a distinct name: env.registerType(MyClass, "other.MyClass")`);
    }
    const entry: RegisteredType = { name, prototype: type.prototype as object };
    this.byPrototype.set(entry.prototype, entry);
    this.byName.set(name, entry);
  }

  forPrototype(prototype: object): RegisteredType | undefined {
    return this.byPrototype.get(prototype);
  }

  forName(name: string): RegisteredType | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }
}

/** A job that registers nothing. */
export const NO_TYPES = new TypeRegistry();

const BUILT_IN_PROTOTYPES = new Set<object>([
  Object.prototype, Array.prototype, Map.prototype, Set.prototype, Date.prototype, RegExp.prototype, Error.prototype,
  Promise.prototype, Function.prototype,
]);

function describeArgument(value: unknown): string {
  if (value === null) return 'null';
  return typeof value;
}
