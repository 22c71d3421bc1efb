//! `DataTable`: a table of rows with sortable columns, a filter box and an empty state. The
//! generic part only turns each row into its cells' texts, sort keys, views and attributes;
//! one non-generic core filters, sorts and draws them, whatever the row type.
//!
//! Columns are described with [`Column`]: a header and a text function (used for display,
//! filtering and, by default, sorting), optionally a custom cell view and a sort key. Clicking a
//! header sorts ascending, clicking again sorts descending.

use crate::components::CollectVec;
use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;

use leptos::prelude::*;

use super::{CollectAny, EmptyRow};

/// What a column sorts by. Variants order as written: missing values first when ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    #[default]
    Missing,
    Int(i64),
    Text(String),
}

/// A row as the table core holds it: its type is known only to the column functions.
type Item = Arc<dyn Any + Send + Sync>;
/// A function of one row, its type erased: made once per column (or row option) from a typed
/// closure, so nothing of the table's own code is compiled again per row type.
type RowFnOf<R> = Arc<dyn Fn(&(dyn Any + Send + Sync)) -> R + Send + Sync>;
/// Draws one cell of a row.
type CellFn = RowFnOf<AnyView>;

/// `f` over a type-erased row: `R::default()` for a row that is not a `T` (never: a table's
/// rows and columns share `T`).
fn erase<T: 'static, R: Default + 'static>(
    f: impl Fn(&T) -> R + Send + Sync + 'static,
) -> RowFnOf<R> {
    Arc::new(move |item| item.downcast_ref::<T>().map(&f).unwrap_or_default())
}

/// A per-row option of a [`DataTable`] (`row_class`, `row_attrs`, `on_row_click`): a closure
/// over `&T`.
pub struct RowFn<T, R> {
    f: RowFnOf<R>,
    row: PhantomData<fn(&T)>,
}

impl<T: 'static, R: Default + 'static, F: Fn(&T) -> R + Send + Sync + 'static> From<F>
    for RowFn<T, R>
{
    fn from(f: F) -> Self {
        RowFn {
            f: erase(f),
            row: PhantomData,
        }
    }
}

/// How a column sorts.
#[derive(Clone)]
enum Sort {
    Not,
    /// By its text, case-insensitively: the core works the key out from the text it has.
    Text,
    Key(RowFnOf<SortKey>),
}

/// One column of a [`DataTable`] of `T` rows.
pub struct Column<T> {
    head: Head,
    text: RowFnOf<String>,
    sort: Sort,
    row: PhantomData<fn(&T)>,
}

impl<T> Clone for Column<T> {
    fn clone(&self) -> Self {
        Column {
            head: self.head.clone(),
            text: Arc::clone(&self.text),
            sort: self.sort.clone(),
            row: PhantomData,
        }
    }
}

impl<T: 'static> Column<T> {
    /// A column shown, filtered and sorted (case-insensitively) by `text`.
    pub fn new(header: &'static str, text: impl Fn(&T) -> String + Send + Sync + 'static) -> Self {
        Column {
            head: Head {
                title: header,
                sortable: true,
                class: "",
                cell: None,
            },
            text: erase(text),
            sort: Sort::Text,
            row: PhantomData,
        }
    }

    /// Sorts by `key` instead of the text (e.g. a timestamp).
    pub fn sort_by(mut self, key: impl Fn(&T) -> SortKey + Send + Sync + 'static) -> Self {
        self.sort = Sort::Key(erase(key));
        self
    }

    /// The header is not clickable.
    pub fn unsorted(mut self) -> Self {
        self.sort = Sort::Not;
        self.head.sortable = false;
        self
    }

    /// Renders cells with `cell` instead of the plain text.
    pub fn cell<V: IntoView + 'static>(
        mut self,
        cell: impl Fn(&T) -> V + Send + Sync + 'static,
    ) -> Self {
        self.head.cell = Some(Arc::new(move |item| match item.downcast_ref::<T>() {
            Some(row) => cell(row).into_any(),
            None => ().into_any(),
        }));
        self
    }

    /// CSS class of the column's cells (e.g. `num`, `mono`, `actions`).
    pub fn class(mut self, class: &'static str) -> Self {
        self.head.class = class;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Asc,
    Desc,
}

/// True when every whitespace-separated word of `filter` occurs in `haystack` (both lowercase).
fn matches_filter(haystack: &str, filter: &str) -> bool {
    filter
        .split_whitespace()
        .all(|word| haystack.contains(word))
}

/// One row with its column values computed: what the table core filters, sorts and draws.
#[derive(Clone)]
struct RowData {
    /// Per column: shown (unless the column draws its cells), filtered on.
    texts: Vec<String>,
    /// Per column: the key of a column sorted by its own key (others sort by their text).
    keys: Vec<Option<SortKey>>,
    item: Item,
    class: String,
    /// `data-*` and other attributes of the `<tr>` (what tests and styles select rows by).
    attrs: Vec<(&'static str, String)>,
}

impl RowData {
    fn sort_key(&self, column: usize) -> SortKey {
        match self.keys.get(column) {
            Some(Some(key)) => key.clone(),
            _ => self
                .texts
                .get(column)
                .map_or(SortKey::Missing, |t| SortKey::Text(t.to_lowercase())),
        }
    }
}

/// A column as the core sees it.
#[derive(Clone)]
struct Head {
    title: &'static str,
    sortable: bool,
    class: &'static str,
    cell: Option<CellFn>,
}

/// What the core computes each row's data with.
struct RowFns {
    texts: Vec<RowFnOf<String>>,
    sorts: Vec<Sort>,
    class: Option<RowFnOf<String>>,
    attrs: Option<RowFnOf<Vec<(&'static str, String)>>>,
}

impl RowFns {
    fn row(&self, item: &Item) -> RowData {
        let row = item.as_ref();
        RowData {
            texts: self.texts.iter().map(|text| text(row)).collect_vec(),
            keys: self
                .sorts
                .iter()
                .map(|sort| match sort {
                    Sort::Key(key) => Some(key(row)),
                    _ => None,
                })
                .collect_vec(),
            class: self.class.as_ref().map(|f| f(row)).unwrap_or_default(),
            attrs: self.attrs.as_ref().map(|f| f(row)).unwrap_or_default(),
            item: Arc::clone(item),
        }
    }
}

/// A sortable, filterable table of `rows`. Only the rows' erasure is compiled per row type.
#[component]
pub fn DataTable<T>(
    #[prop(into)] rows: Signal<Vec<T>>,
    columns: Vec<Column<T>>,
    /// Shown instead of rows when there are none.
    #[prop(default = "Nothing here yet.")]
    empty: &'static str,
    /// Shown instead of `empty` until the rows have loaded.
    #[prop(optional, into)]
    loading: Signal<bool>,
    /// Show the filter box above the table.
    #[prop(default = true)]
    filterable: bool,
    /// Makes rows clickable (and focusable, Enter activates).
    #[prop(optional, into)]
    on_row_click: Option<RowFn<T, ()>>,
    /// Extra CSS class per row, e.g. to highlight the selected one.
    #[prop(optional, into)]
    row_class: Option<RowFn<T, String>>,
    /// Attributes of each row's `<tr>`, e.g. `("data-test", "host-row")`.
    #[prop(optional, into)]
    row_attrs: Option<RowFn<T, Vec<(&'static str, String)>>>,
    /// `data-test` attribute of the table wrapper.
    #[prop(optional)]
    test_id: &'static str,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let items = Signal::derive(move || {
        rows.with(|rows| {
            let mut items: Vec<Item> = Vec::with_capacity(rows.len());
            for row in rows {
                items.push(Arc::new(row.clone()));
            }
            items
        })
    });
    let mut heads = Vec::with_capacity(columns.len());
    let mut fns = RowFns {
        texts: Vec::with_capacity(columns.len()),
        sorts: Vec::with_capacity(columns.len()),
        class: row_class.map(|f| f.f),
        attrs: row_attrs.map(|f| f.f),
    };
    for column in columns {
        heads.push(column.head);
        fns.texts.push(column.text);
        fns.sorts.push(column.sort);
    }
    view! {
        <TableCore
            items=items
            fns=fns
            heads=heads
            empty=empty
            loading=loading
            filterable=filterable
            test_id=test_id
            click=on_row_click.map(|f| f.f)
        />
    }
}

#[component]
fn TableCore(
    items: Signal<Vec<Item>>,
    fns: RowFns,
    heads: Vec<Head>,
    empty: &'static str,
    loading: Signal<bool>,
    filterable: bool,
    test_id: &'static str,
    click: Option<RowFnOf<()>>,
) -> impl IntoView {
    let rows = Signal::derive(move || {
        items.with(|items| items.iter().map(|item| fns.row(item)).collect_vec())
    });
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new(None::<(usize, Direction)>);
    let cells: Vec<(&'static str, Option<CellFn>)> = heads
        .iter()
        .map(|h| (h.class, h.cell.clone()))
        .collect_vec();

    let visible = move || {
        let needle = filter.get().to_lowercase();
        let mut shown: Vec<RowData> = rows.with(|rows| {
            rows.iter()
                .filter(|row| {
                    needle.trim().is_empty()
                        || matches_filter(&row.texts.join(" ").to_lowercase(), &needle)
                })
                .cloned()
                .collect_vec()
        });
        if let Some((index, dir)) = sort.get() {
            // A stable sort keeps the server's order among equal keys.
            let mut keyed: Vec<(SortKey, RowData)> = shown
                .into_iter()
                .map(|row| (row.sort_key(index), row))
                .collect_vec();
            vr_app::order::sort_by(&mut keyed, |a, b| {
                let order = a.0.cmp(&b.0);
                if dir == Direction::Asc {
                    order
                } else {
                    order.reverse()
                }
            });
            shown = keyed.into_iter().map(|(_, row)| row).collect_vec();
        }
        shown
    };

    let header_cells = heads
        .iter()
        .enumerate()
        .map(|(index, head)| {
            let title = head.title;
            if !head.sortable {
                return view! { <th scope="col" class=head.class>{title}</th> }.into_any();
            }
            let aria_sort = move || match sort.get() {
                Some((i, Direction::Asc)) if i == index => "ascending",
                Some((i, Direction::Desc)) if i == index => "descending",
                _ => "none",
            };
            let arrow = move || match sort.get() {
                Some((i, Direction::Asc)) if i == index => "▲",
                Some((i, Direction::Desc)) if i == index => "▼",
                _ => "",
            };
            let on_click = move |_| {
                sort.update(|s| {
                    *s = match *s {
                        Some((i, Direction::Asc)) if i == index => Some((index, Direction::Desc)),
                        _ => Some((index, Direction::Asc)),
                    }
                })
            };
            view! {
                <th scope="col" class=head.class aria-sort=aria_sort>
                    <button type="button" class="th-sort" on:click=crate::ev::click(on_click)>
                        {title}
                        <span class="sort-arrow" aria-hidden="true">
                            {arrow}
                        </span>
                    </button>
                </th>
            }
            .into_any()
        })
        .collect_any();

    let column_count = heads.len();
    let total = move || rows.with(Vec::len);
    let body = move || {
        let shown = visible();
        if shown.is_empty() {
            let text = if loading.get() {
                "Loading…"
            } else if total() == 0 {
                empty
            } else {
                "No rows match the filter."
            };
            return view! { <EmptyRow colspan=column_count text=text.to_string() /> }.into_any();
        }
        shown
            .into_iter()
            .map(|row| view! { <TableRow row=row cells=cells.clone() click=click.clone() /> })
            .collect_any()
            .into_any()
    };

    let count = move || {
        let shown = visible().len();
        let all = total();
        let rows = if all == 1 { "row" } else { "rows" };
        if shown == all {
            format!("{all} {rows}")
        } else {
            format!("{shown} of {all} {rows}")
        }
    };

    view! {
        <div class="data-table" data-test=test_id>
            {filterable
                .then(|| {
                    view! {
                        <div class="table-tools">
                            <input
                                type="search"
                                class="table-filter"
                                placeholder="Filter…"
                                aria-label="Filter rows"
                                prop:value=move || filter.get()
                                on:input=crate::ev::input(move |ev| filter.set(event_target_value(&ev)))
                            />
                            <span class="muted table-count">{count}</span>
                        </div>
                    }
                })}
            <div class="table-scroll">
                <table>
                    <thead>
                        <tr>{header_cells}</tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        </div>
    }
}

#[component]
fn TableRow(
    row: RowData,
    cells: Vec<(&'static str, Option<CellFn>)>,
    click: Option<RowFnOf<()>>,
) -> impl IntoView {
    let tr = NodeRef::<leptos::html::Tr>::new();
    let attrs = row.attrs;
    tr.on_load(move |el| {
        for (name, value) in &attrs {
            let _ = el.set_attribute(name, value);
        }
    });
    let item = row.item;
    let tds = row
        .texts
        .into_iter()
        .zip(cells)
        .map(|(text, (class, cell))| {
            let content = match cell {
                Some(cell) => cell(item.as_ref()),
                None => text.into_any(),
            };
            view! { <td class=class>{content}</td> }
        })
        .collect_any();
    match click {
        Some(click) => {
            let pressed = Arc::clone(&click);
            let on_key = Arc::clone(&item);
            view! {
                <tr
                    node_ref=tr
                    class=format!("clickable {}", row.class)
                    tabindex="0"
                    on:click=crate::ev::click(move |_| click(item.as_ref()))
                    on:keydown=crate::ev::keydown(move |ev| {
                        if ev.key() == "Enter" {
                            pressed(on_key.as_ref());
                        }
                    })
                >
                    {tds}
                </tr>
            }
            .into_any()
        }
        None => view! { <tr node_ref=tr class=row.class>{tds}</tr> }.into_any(),
    }
}

/// Sort key of an optional number, e.g. a "last used" time that may be missing.
pub fn int_key(value: Option<i64>) -> SortKey {
    value.map_or(SortKey::Missing, SortKey::Int)
}
