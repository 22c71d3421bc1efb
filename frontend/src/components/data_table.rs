//! `DataTable`: a table of rows with sortable columns, a filter box and an empty state. The
//! generic part only turns each row into its cells' texts, sort keys, views and attributes;
//! one non-generic core filters, sorts and draws them, whatever the row type.
//!
//! Columns are described with [`Column`]: a header and a text function (used for display,
//! filtering and, by default, sorting), optionally a custom cell view and a sort key. Clicking a
//! header sorts ascending, clicking again sorts descending.

use std::any::Any;
use std::sync::Arc;

use leptos::prelude::*;

use super::{CollectAny, EmptyRow};

/// What a column sorts by. Variants order as written: missing values first when ascending.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Missing,
    Int(i64),
    Text(String),
}

/// A row as the table core holds it: its type is known only to the column functions.
type Item = Arc<dyn Any + Send + Sync>;
type TextFn<T> = Arc<dyn Fn(&T) -> String + Send + Sync>;
type SortFn<T> = Arc<dyn Fn(&T) -> SortKey + Send + Sync>;
/// Draws one cell of a row (type-erased: the core keeps one copy of the table's view code).
type CellFn = Arc<dyn Fn(&(dyn Any + Send + Sync)) -> AnyView + Send + Sync>;
type ClickFn = Arc<dyn Fn(&(dyn Any + Send + Sync)) + Send + Sync>;

/// How a column sorts.
enum Sort<T> {
    Not,
    /// By its text, case-insensitively: the core works the key out from the text it has.
    Text,
    Key(SortFn<T>),
}

impl<T> Clone for Sort<T> {
    fn clone(&self) -> Self {
        match self {
            Sort::Not => Sort::Not,
            Sort::Text => Sort::Text,
            Sort::Key(key) => Sort::Key(Arc::clone(key)),
        }
    }
}

/// One column of a [`DataTable`].
pub struct Column<T> {
    header: &'static str,
    text: TextFn<T>,
    sort: Sort<T>,
    cell: Option<CellFn>,
    class: &'static str,
}

impl<T> Clone for Column<T> {
    fn clone(&self) -> Self {
        Column {
            header: self.header,
            text: Arc::clone(&self.text),
            sort: self.sort.clone(),
            cell: self.cell.clone(),
            class: self.class,
        }
    }
}

impl<T: 'static> Column<T> {
    /// A column shown, filtered and sorted (case-insensitively) by `text`.
    pub fn new(header: &'static str, text: impl Fn(&T) -> String + Send + Sync + 'static) -> Self {
        Column {
            header,
            text: Arc::new(text),
            sort: Sort::Text,
            cell: None,
            class: "",
        }
    }

    /// Sorts by `key` instead of the text (e.g. a timestamp).
    pub fn sort_by(mut self, key: impl Fn(&T) -> SortKey + Send + Sync + 'static) -> Self {
        self.sort = Sort::Key(Arc::new(key));
        self
    }

    /// The header is not clickable.
    pub fn unsorted(mut self) -> Self {
        self.sort = Sort::Not;
        self
    }

    /// Renders cells with `cell` instead of the plain text.
    pub fn cell<V: IntoView + 'static>(
        mut self,
        cell: impl Fn(&T) -> V + Send + Sync + 'static,
    ) -> Self {
        self.cell = Some(Arc::new(move |item| match item.downcast_ref::<T>() {
            Some(row) => cell(row).into_any(),
            None => ().into_any(),
        }));
        self
    }

    /// CSS class of the column's cells (e.g. `num`, `mono`, `actions`).
    pub fn class(mut self, class: &'static str) -> Self {
        self.class = class;
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

/// One row with its column values computed: what the (non-generic) table core draws, so the
/// table's view code exists once however many row types use it.
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

/// A sortable, filterable table of `rows`.
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
    on_row_click: Option<Callback<T>>,
    /// Extra CSS class per row, e.g. to highlight the selected one.
    #[prop(optional, into)]
    row_class: Option<Callback<T, String>>,
    /// Attributes of each row's `<tr>`, e.g. `("data-test", "host-row")`.
    #[prop(optional, into)]
    row_attrs: Option<Callback<T, Vec<(&'static str, String)>>>,
    /// `data-test` attribute of the table wrapper.
    #[prop(optional)]
    test_id: &'static str,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let heads: Vec<Head> = columns
        .iter()
        .map(|c| Head {
            title: c.header,
            sortable: !matches!(c.sort, Sort::Not),
            class: c.class,
            cell: c.cell.clone(),
        })
        .collect();
    let click = on_row_click.map(|callback| {
        Arc::new(move |item: &(dyn Any + Send + Sync)| {
            if let Some(row) = item.downcast_ref::<T>() {
                callback.run(row.clone());
            }
        }) as ClickFn
    });
    let data = Signal::derive(move || {
        rows.with(|rows| {
            rows.iter()
                .map(|row| RowData {
                    texts: columns.iter().map(|c| (c.text)(row)).collect(),
                    keys: columns
                        .iter()
                        .map(|c| match &c.sort {
                            Sort::Key(key) => Some(key(row)),
                            _ => None,
                        })
                        .collect(),
                    class: row_class.map(|f| f.run(row.clone())).unwrap_or_default(),
                    attrs: row_attrs.map(|f| f.run(row.clone())).unwrap_or_default(),
                    item: Arc::new(row.clone()),
                })
                .collect()
        })
    });
    view! { <TableCore rows=data heads=heads empty=empty loading=loading filterable=filterable test_id=test_id click=click /> }
}

#[component]
fn TableCore(
    rows: Signal<Vec<RowData>>,
    heads: Vec<Head>,
    empty: &'static str,
    loading: Signal<bool>,
    filterable: bool,
    test_id: &'static str,
    click: Option<ClickFn>,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new(None::<(usize, Direction)>);
    let cells: Vec<(&'static str, Option<CellFn>)> =
        heads.iter().map(|h| (h.class, h.cell.clone())).collect();

    let visible = move || {
        let needle = filter.get().to_lowercase();
        let mut shown: Vec<RowData> = rows.with(|rows| {
            rows.iter()
                .filter(|row| {
                    needle.trim().is_empty()
                        || matches_filter(&row.texts.join(" ").to_lowercase(), &needle)
                })
                .cloned()
                .collect()
        });
        if let Some((index, dir)) = sort.get() {
            // A stable sort keeps the server's order among equal keys.
            let mut keyed: Vec<(SortKey, RowData)> = shown
                .into_iter()
                .map(|row| (row.sort_key(index), row))
                .collect();
            vr_app::order::sort_by(&mut keyed, |a, b| {
                let order = a.0.cmp(&b.0);
                if dir == Direction::Asc {
                    order
                } else {
                    order.reverse()
                }
            });
            shown = keyed.into_iter().map(|(_, row)| row).collect();
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
    click: Option<ClickFn>,
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
