from django.urls import path

from . import views

urlpatterns = [
    path("", views.stock_list, name="stock_list"),
    path("receive/", views.stock_receive, name="stock_receive"),
    path("reorder/", views.reorder_list, name="reorder_list"),
    path("<int:pk>/", views.stock_item, name="stock_item"),
    path("<int:pk>/ordered/", views.mark_ordered, name="stock_mark_ordered"),
    path("<int:pk>/waste/", views.stock_waste, name="stock_waste"),
    path("<int:pk>/destroy/", views.stock_destroy, name="stock_destroy"),
    path("<int:pk>/adjust/", views.stock_adjust, name="stock_adjust"),
    path("counts/", views.count_overview, name="count_overview"),
    path("counts/unit/<int:unit_pk>/", views.count_unit, name="count_unit"),
    path("counts/<int:pk>/", views.count_detail, name="count_detail"),
]
