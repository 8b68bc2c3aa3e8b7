import type { ResourceState } from './app';
import { FormError } from './field';

/** Chooses the resource a view works on (shared by the views). */
export function ResourcePicker({ resources, id }: { resources: ResourceState; id: string }) {
  if (resources.error) return <FormError error={resources.error} />;
  if (!resources.resources) return <p>Loading the resources…</p>;
  if (resources.resources.length === 0) return <p>No resources yet: create one under Resources.</p>;
  return (
    <div class="field picker">
      <label for={id}>Resource</label>
      <select id={id} value={resources.selected} onChange={(event) => resources.select((event.currentTarget as HTMLSelectElement).value)}>
        {resources.resources.map((r) => (
          <option key={r.name} value={r.name}>
            {r.name} ({r.geography})
          </option>
        ))}
      </select>
    </div>
  );
}
