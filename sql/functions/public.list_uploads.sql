-- public.list_uploads
-- migrations: 0035_list_uploads
-- The cursor is `created_at,id` of the last row answered, as text: opaque to clients, exact (text
-- output of timestamptz keeps microseconds), and checked on the way back in (UL004, not 22P02).
create or replace function public.list_uploads(
  kind text default null,
  status text default null,
  after text default null,
  page_size integer default 20
)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_status upload_lifecycle.upload_status;
  v_after_at timestamptz;
  v_after_id uuid;
  v_limit integer := coalesce(list_uploads.page_size, 20);
  v_ids uuid[];
  v_next text;
begin
  if auth.uid() is null then
    raise exception using errcode = 'UL005', message = 'list_uploads needs a signed-in user',
      hint = 'Call it with the user''s JWT; uploads are listed per owner.';
  end if;
  if v_limit < 1 or v_limit > 100 then
    raise exception using errcode = 'UL004', message = format('page_size %s is out of range', v_limit),
      hint = 'Ask for 1 to 100 uploads per page and follow `next` for more.';
  end if;
  if list_uploads.status is not null then
    if list_uploads.status not in ('draft', 'uploading', 'completed', 'failed') then
      raise exception using errcode = 'UL004', message = format('unknown status %L', list_uploads.status),
        hint = 'Filter by draft, uploading, completed or failed.';
    end if;
    v_status := list_uploads.status::upload_lifecycle.upload_status;
  end if;
  if list_uploads.after is not null then
    begin
      v_after_at := split_part(list_uploads.after, ',', 1)::timestamptz;
      v_after_id := split_part(list_uploads.after, ',', 2)::uuid;
    exception when others then
      raise exception using errcode = 'UL004', message = 'invalid cursor',
        hint = 'Pass the `next` of the previous page unchanged, or nothing for the first page.';
    end;
  end if;

  select array_agg(x.id order by x.created_at desc, x.id desc) into v_ids
  from (
    select e.id, e.created_at from upload_lifecycle.entities e
    where e.owner_id = auth.uid()
      and (list_uploads.kind is null or e.kind = list_uploads.kind)
      and (v_status is null or e.status = v_status)
      and (v_after_at is null or (e.created_at, e.id) < (v_after_at, v_after_id))
    order by e.created_at desc, e.id desc
    limit v_limit + 1
  ) x;

  if coalesce(array_length(v_ids, 1), 0) > v_limit then
    select e.created_at::text || ',' || e.id::text into v_next
    from upload_lifecycle.entities e where e.id = v_ids[v_limit];
  end if;
  return jsonb_build_object(
    'uploads', coalesce((
      select jsonb_agg(upload_lifecycle.upload_state(i.id) order by i.n)
      from unnest(v_ids[1:v_limit]) with ordinality as i(id, n)), '[]'::jsonb),
    'next', v_next);
end
$$;
revoke all on function public.list_uploads(text, text, text, integer) from public, anon, authenticated, service_role;
grant execute on function public.list_uploads(text, text, text, integer) to authenticated;
comment on function public.list_uploads(text, text, text, integer) is
$c$The caller's uploads, newest first, filtered by kind and status, one keyset page at a time (pass the previous page's `next` as `after`).
@type UploadPage { uploads: UploadState[]; next: string | null }
@returns UploadPage$c$;
